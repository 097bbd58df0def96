"""The check pipeline's stages, in the order records flow through them."""
