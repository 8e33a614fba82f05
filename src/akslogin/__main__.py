from akslogin.cli import main

raise SystemExit(main())
