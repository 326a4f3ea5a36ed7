"""The registry of known infringing images: both roles may read it, only the merchant changes it.

    GET    /api/registry                 the entries
    POST   /api/registry                 {"label", "source", "phash", "dhash"?, "colour"?}: a hash
    POST   /api/registry/images?label=…&source=…   the image file itself as the request body
    DELETE /api/registry/{id}            takes it out; its open findings are resolved
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status

from audits.ledger import Ledger, Token
from audits.registry import (MAX_FILE_BYTES, RegistryImportError, add_uploaded_image,
                             check_hashes)
from imaging import ImageRefused

from . import AuthFirstRoute
from ..deps import actor, any_role, get_ledger, merchant_only
from ..refusals import bad_input, refusals
from ..schemas import RegistryHashIn, RegistryOut, RegistryRemovedOut, RowId

router = APIRouter(prefix="/api/registry", tags=["registry"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.get("", response_model=list[RegistryOut])
def list_registry(ledger: Ledger = Depends(get_ledger),
                  _: Token = Depends(any_role)) -> list[RegistryOut]:
    return [RegistryOut.of(e) for e in ledger.registry()]


@router.post("", response_model=RegistryOut, status_code=201, responses=refusals(400, 403))
def add_hash(body: RegistryHashIn, ledger: Ledger = Depends(get_ledger),
             token: Token = Depends(merchant_only)) -> RegistryOut:
    """Register an image by its hashes alone (no file: nothing to show beside a match)."""
    try:
        hashes = check_hashes(body.model_dump(), "request")
    except RegistryImportError as e:
        raise bad_input(("body",), str(e)) from e
    [entry] = ledger.add_registry_entries([dict(
        label=body.label, source=body.source, path=None, sha256=hashes["sha256"],
        phash=hashes["phash"], dhash=hashes["dhash"], colour=hashes["colour"])],
        added_by=actor(token))
    return RegistryOut.of(entry)


@router.post("/images", response_model=RegistryOut, status_code=201,
             responses=refusals(403, 413),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "image/*": {"schema": {"type": "string", "format": "binary"}}}}})
async def add_image(request: Request, label: str | None = None, source: str | None = None,
                    filename: str | None = None, ledger: Ledger = Depends(get_ledger),
                    token: Token = Depends(merchant_only)) -> RegistryOut:
    """Register an image: the file is the request body (Content-Type image/jpeg, image/png …).
    A body that is empty, truncated, corrupt, not an image or too large is refused (422)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                            f"too large: {declared} bytes (limit {MAX_FILE_BYTES})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                f"too large: over {MAX_FILE_BYTES} bytes")
        chunks.append(chunk)
    try:
        entry = add_uploaded_image(ledger, b"".join(chunks), filename=filename,
                                   label=(label or "").strip()[:200] or None,
                                   source=(source or "").strip()[:2000] or None,
                                   added_by=actor(token))
    except ImageRefused as e:
        raise bad_input(("body",), f"the upload was refused: {e}") from e
    return RegistryOut.of(entry)


@router.delete("/{entry_id}", response_model=RegistryRemovedOut, responses=refusals(403, 404))
def remove(entry_id: RowId, ledger: Ledger = Depends(get_ledger),
           token: Token = Depends(merchant_only)) -> RegistryRemovedOut:
    try:
        entry, resolved = ledger.remove_registry_entry(entry_id, actor=actor(token))
    except KeyError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no registry entry #{entry_id}") from e
    return RegistryRemovedOut(removed=RegistryOut.of(entry), resolved_findings=resolved)
