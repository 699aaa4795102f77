"""Customer service: tickets from users to the platform, with a thread of replies."""
