"""The front: what every HTTP request goes through before an application answers it."""
