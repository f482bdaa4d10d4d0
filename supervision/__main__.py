from supervision.cli import main

main()
