fromfile  tmpfs    -                    /fromfile
