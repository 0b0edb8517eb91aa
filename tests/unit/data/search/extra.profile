extra     tmpfs    -                    /extra
