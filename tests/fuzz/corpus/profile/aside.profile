# A shared profile with an entry mounted aside: one tmpfs, and host mounts of
# two of its subtrees. Only this profile's own @ENTRY sources can reach it.
pool      tmpfs    -                    -                        size=8M
a         bind     @pool/a              /srv/goldroot-aside-a    create
b         bind     @pool/b              /srv/goldroot-aside-b    create
