"""Bookings: a companion's weekly calendar, booked slots with a hold, reminders, the call at the slot."""
