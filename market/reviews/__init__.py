"""Reviews after a paid session, companion replies, ratings and the figures discovery sorts by."""
