"""The sandbox's Zalo face: the Zalo Bot Platform API under /zalo (docs/zalo.md)."""
