"""Development-only simulators of the services outside the system (the education registry;
the WeChat API goes here too), so `make run`, the tests and the benches make real HTTP round
trips without the outside world. Production settings (DJANGO_ENV=production) do not install
this app and do not mount its URLs; nothing in the production apps imports it."""
