include   cycle-a.profile
