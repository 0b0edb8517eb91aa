# Two shared entries that wait for each other.
p         bind     /srv/p               /srv/p       after=q
q         bind     /srv/q               /srv/q       after=p
