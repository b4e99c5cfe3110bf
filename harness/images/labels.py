"""Names and labels that mark Docker images as the harness's own."""

from __future__ import annotations

from harness.labels import HARNESS, HARNESS_VALUE

# Every image and base this package builds is called `<IMAGE_PREFIX>/<name>:<tag>`.
IMAGE_PREFIX = "contravento-harness"

# The same key and value the stack puts on its containers, so one filter (harness.labels.OWNED)
# finds everything the harness created.
HARNESS_LABEL = HARNESS
HARNESS_LABEL_VALUE = HARNESS_VALUE
IMAGE_NAME_LABEL = f"{HARNESS_LABEL}.image"
CONTENT_HASH_LABEL = f"{HARNESS_LABEL}.content-hash"
BASE_IMAGE_LABEL = f"{HARNESS_LABEL}.base"


def image_labels(name: str, content_hash: str, base_ref: str) -> dict[str, str]:
    """The labels put on a harness image: ownership, which image it is, and what it came from."""
    return {
        HARNESS_LABEL: HARNESS_LABEL_VALUE,
        IMAGE_NAME_LABEL: name,
        CONTENT_HASH_LABEL: content_hash,
        BASE_IMAGE_LABEL: base_ref,
    }
