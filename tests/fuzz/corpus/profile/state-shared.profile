y         bind     state:foo            /srv/y
