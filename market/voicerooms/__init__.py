"""Group voice rooms: a companion hosts, customers join and leave, each billed per minute."""
