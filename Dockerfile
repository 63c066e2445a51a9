# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && pip uninstall -y qiuxue-yuanmeng
COPY . .
# collectstatic needs settings that import cleanly; the real secrets come at run time
RUN DJANGO_SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    PII_FERNET_KEYS=Z0FBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE= PII_HMAC_KEY=build-only \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
# The server's shape is in gunicorn.conf.py (one process per core × 8 threads, the shape
# bench_intake measures for the opening rush): set WEB_CONCURRENCY to the cores of the host.
CMD ["gunicorn", "config.wsgi", "--access-logfile", "-"]
