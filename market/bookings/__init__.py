"""Bookings: a companion's weekly calendar, booked slots with a hold, reminders, the slot's call."""
