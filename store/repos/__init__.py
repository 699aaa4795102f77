"""Repositories: query functions over an open ``AsyncSession``; they never commit."""
