"""Appeals: a customer disputes a session, the companion responds, an admin refunds."""
