"""The harness's Docker images: backend, load generator and PostgreSQL, with offline bases."""

from __future__ import annotations

from harness.images.backend_image import backend_image
from harness.images.base import BASE_MODES, BaseMode
from harness.images.build import BuiltImages, build_images, tag_latest
from harness.images.labels import HARNESS_LABEL, HARNESS_LABEL_VALUE, IMAGE_PREFIX

__all__ = [
    "BASE_MODES",
    "HARNESS_LABEL",
    "HARNESS_LABEL_VALUE",
    "IMAGE_PREFIX",
    "BaseMode",
    "BuiltImages",
    "backend_image",
    "build_images",
    "tag_latest",
]
