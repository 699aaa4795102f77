"""The marketplace: catalog (discovery), bookings, reviews, appeals, support (tickets), vetting
(companion applications and levels) and voice rooms, built on the core domains."""
