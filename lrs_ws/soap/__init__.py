"""SOAP entry points: spyne wire models, the services, faults, credentials check, WSGI app."""
