"""The network lab (issue 17): clients in network namespaces of their own, joined to the server
through a userspace router that applies loss (random or bursty), delay, jitter and a rate cap
per direction.  ``profiles`` (pure model), ``tun`` (kernel doors), ``router`` (the process that
moves packets), ``lab`` (namespaces and wiring), ``probe`` (UDP probes that measure what the lab
does).  ``python -m bench.network`` runs it; ``tests/network`` has the short version."""
