"""Names and labels that mark Docker images (and the stack's containers) as the harness's own."""

from __future__ import annotations

# Every image and base this package builds is called `<IMAGE_PREFIX>/<name>:<tag>`.
IMAGE_PREFIX = "contravento-harness"

# Filter with `label=org.contravento.harness=1`: the same key the stack puts on its
# containers (harness.labels.HARNESS; a test keeps them equal), so one filter finds
# everything the harness created. Spelled out here so building images needs nothing of
# the stack's code.
HARNESS_LABEL = "org.contravento.harness"
HARNESS_LABEL_VALUE = "1"
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
