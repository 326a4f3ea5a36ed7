"""The weekly and monthly review: the data (`build`), its charts (`charts`), how it reads
(`render`) and its printable PDF (`pdf`); the weeks and months it covers are audits/periods.py."""
