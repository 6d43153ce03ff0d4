"""chuchuang's generator: site.yaml + content → validated model → static showcase + catalog."""

__version__ = "0.1.0"
