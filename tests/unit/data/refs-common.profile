# A shared profile that refers to common, for test-profile.
c         bind     common:root          /srv/c
