# A shared log area, mounted once on the host for every instance.
area      tmpfs    -                    /srv/goldroot-logs     size=16M,mode=0755
share     bind     logs:area/share      /srv/goldroot-share    create
unused    tmpfs    -                    /srv/goldroot-unused
