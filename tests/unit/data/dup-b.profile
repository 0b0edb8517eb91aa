tmp       tmpfs    -                    /var/tmp
