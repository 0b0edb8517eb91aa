# ro: the Redpaper layout (DESIGN.md §3), goldroot's default mode.
#
# / is read-only and recursive, so /usr, /opt, /boot, /bin and /lib cannot be
# written even by root inside the instance. /etc, /var, /root, /srv and /home
# are writable and persistent. /tmp and /run are tmpfs. The package database
# describes /usr, so it is bound read-only from the image.
#
# One overlay of the whole image, mounted aside (target -, never attached),
# serves all of it: / is a read-only view of it, and /etc, /var, /root, /srv
# and /home are writable binds of its subtrees. An overlay mount costs about
# thirty binds, so this is much cheaper than an overlay per directory. / shows
# the overlay rather than the bare image so that a mount point the image lacks
# (an image without /srv) can be made in the overlay: `create` makes it in the
# upper layer, and it appears in / too.
#
# State layout (the same as the rw profile's):
#   state:/root       the overlay's upper layer: the instance's changes to the
#                     image, at their paths (state:/root/etc/hostname)
#   state:/.work/rw   the overlay's work directory

rw       overlay  image:/              -               upper=state:root
root     bind     @rw                  /               ro
etc      bind     @rw/etc              /etc            rw,create
var      bind     @rw/var              /var            rw,create
roothome bind     @rw/root             /root           rw,create
srv      bind     @rw/srv              /srv            rw,create
home     bind     @rw/home             /home           rw,create
tmp      tmpfs    -                    /tmp            mode=1777,nosuid,nodev
run      tmpfs    -                    /run            mode=0755,nosuid,nodev
dpkg     bind     image:/var/lib/dpkg  /var/lib/dpkg   ro,optional
rpm      bind     image:/var/lib/rpm   /var/lib/rpm    ro,optional

# The default command of `goldroot start NAME`.
set      init     /sbin/init
