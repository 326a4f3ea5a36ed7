"""The weekly and monthly review: the data (`build`), its charts (`charts`), the periods it
covers (`periods`), how it reads (`render`) and its printable PDF (`pdf`)."""
