x         bind     selfref:y            /x
y         tmpfs    -                    /y
