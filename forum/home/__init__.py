"""Each role's home page: what a person should look at first."""
