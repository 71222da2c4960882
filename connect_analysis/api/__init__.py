"""One module per Connect resource family. Every network call is an explicit function
with a verb (fetch_visits, fetch_bundles, ...) that returns complete records as a
DataFrame conformed to schema.TABLES."""
