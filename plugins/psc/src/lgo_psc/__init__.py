"""Pro Santé Connect sign-in for the operators (plugin ``psc``)."""
