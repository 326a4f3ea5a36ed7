from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """Liveness: answers without a token and reveals nothing about the store."""
    return {"status": "ok"}
