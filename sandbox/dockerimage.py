"""``docker import`` of the runtime tree as the image ``invevolve-sandbox:<key>`` (no registry)."""
from __future__ import annotations

import logging
import os
import tarfile
import tempfile
from pathlib import Path

from sandbox.image import RuntimeRoot

log = logging.getLogger(__name__)


class DockerUnavailable(RuntimeError):
    """No docker engine (or SDK) to import the image into."""


def _owner_filter(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_docker_image(root: RuntimeRoot, client: object | None = None, force: bool = False) -> str:
    """``docker import`` the tree as ``invevolve-sandbox:<key>``; returns the tag.

    Uses the docker SDK against whatever engine ``docker.from_env()`` finds; no registry is
    contacted. Raises :class:`DockerUnavailable` when no engine answers.
    """
    try:
        import docker  # optional at import time of this module
    except ImportError:
        raise DockerUnavailable("the docker Python SDK is not installed (pip install docker)") from None
    try:
        client = client or docker.from_env(timeout=300)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        host = os.environ.get("DOCKER_HOST", "the default socket")
        raise DockerUnavailable(f"no docker engine answers at {host} ({type(exc).__name__}); start one, or "
                                f"use `build --no-docker` (bubblewrap needs only the tree)") from None
    if not force:
        try:
            client.images.get(root.image_tag)
            log.info("docker image %s already present", root.image_tag)
            return root.image_tag
        except docker.errors.ImageNotFound:
            pass
    with tempfile.TemporaryDirectory(prefix="invevolve-image-") as td:
        tar_path = Path(td) / "rootfs.tar"
        with tarfile.open(tar_path, "w") as tar:
            for child in sorted(root.path.iterdir()):
                tar.add(child, arcname=child.name, filter=_owner_filter)
        log.info("importing %s (%.0f MB) into docker", root.image_tag, tar_path.stat().st_size / 1e6)
        repo, tag = root.image_tag.split(":")
        with open(tar_path, "rb") as fh:
            client.api.import_image_from_data(fh, repository=repo, tag=tag)
    client.images.get(root.image_tag)
    return root.image_tag
