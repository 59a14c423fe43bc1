"""`python -m camsim furbo`: a simulated Furbo cloud account (see camsim/README.md, "Furbo cloud").

catalog: products and vocabularies; account: the account's state and rules; api: the HTTP surface;
media: signed links, thumbnails and clips; server: listeners, cloud file and announcement.
"""
