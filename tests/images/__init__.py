"""Tests of harness.images: tags, APT sources, and the built images themselves."""
