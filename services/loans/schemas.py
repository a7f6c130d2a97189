"""Request and response bodies of the loans API."""
