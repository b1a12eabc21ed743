from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from celito.web import RuntimeDep

router = APIRouter(tags=["System"])


class Version(BaseModel):
    apiversion: str
    hostname: str


@router.get(
    "/version",
    response_model=Version,
    summary="Read the API version",
    description="The API version and the node that answered (no authentication): use it to "
    "see which node of a cluster served you.\n\n**Roles:** anyone.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"apiversion": "Version: 45.0.0", "hostname": "node-a"}
                }
            }
        }
    },
    openapi_extra={"x-roles": ["anyone"]},
)
async def version(runtime: RuntimeDep) -> Version:
    return Version(apiversion=runtime.settings.apiversion_string, hostname=runtime.settings.node_id)
