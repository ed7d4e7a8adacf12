"""The course modules of TinyTorch, one concept each, in the order they are taught."""
