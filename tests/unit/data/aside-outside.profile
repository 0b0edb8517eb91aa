# A shared profile whose @ENTRY names an entry of another profile (logs).
x         bind     @area                /srv/goldroot-x
