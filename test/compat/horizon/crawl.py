"""Logs in to a running Horizon and loads every panel page its navigation offers; prints one JSON report.

Run with Debian's Python (/usr/bin/python3) by test/compat/horizon.test.ts:
    HORIZON_PASSWORD=... [HORIZON_LOOK_FOR=word,word] crawl.py BASE_URL USERNAME
The password comes from the environment so it never shows in a process listing. Report: {"login": {...}, "pages": [{"url", "status", "seconds", "errors", "title"}]}. An error is an
error or warning message Horizon put on the page (its Django messages), e.g. "Unable to retrieve usage information."
"""
import html
import json
import os
import re
import sys
import time

import requests

# Each page gets this long: Horizon's Overview used to loop forever on os-simple-tenant-usage paging.
PAGE_TIMEOUT = 120
DASHBOARDS = ('project', 'admin', 'identity', 'settings')
NAV_LINK = re.compile(r'href="(/(?:%s)/[^"#?]*)"' % '|'.join(DASHBOARDS))
# horizon/_messages.html: one div per message, "alert-danger" for errors, "alert-warning" for warnings.
MESSAGE = re.compile(r'<div class="alert alert-(danger|warning) alert-dismissable fade in">(.*?)</p>', re.S)
TITLE = re.compile(r'<title>(.*?)</title>', re.S)


def text_of(fragment):
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', ' ', fragment)).split())


def login(session, base, username, password):
    page = session.get(base + '/auth/login/', timeout=PAGE_TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    region = re.search(r'name="region"[^>]*value="([^"]*)"', page.text)
    form = {'csrfmiddlewaretoken': token, 'username': username, 'password': password,
            'region': region.group(1) if region else ''}
    return session.post(base + '/auth/login/', data=form, timeout=PAGE_TIMEOUT,
                        headers={'Referer': base + '/auth/login/'})


def visit(session, base, path):
    started = time.monotonic()
    try:
        r = session.get(base + path, timeout=PAGE_TIMEOUT, allow_redirects=True)
    except requests.RequestException as e:
        return {'url': path, 'status': None, 'seconds': round(time.monotonic() - started, 2),
                'errors': ['request failed: %s' % e], 'title': ''}
    errors = [text_of(body) for _kind, body in MESSAGE.findall(r.text)]
    title = TITLE.search(r.text)
    final = r.url[len(base):] if r.url.startswith(base) else r.url
    if final.startswith('/auth/login'):
        errors.append('redirected to the login page')
    return {'url': path, 'final': final, 'status': r.status_code, 'seconds': round(time.monotonic() - started, 2),
            'errors': errors, 'title': text_of(title.group(1)) if title else '',
            'found': [w for w in LOOK_FOR if w in r.text]}


# Words the caller wants located (e.g. a server's name on Overview's usage table): each page lists those it holds.
LOOK_FOR = [w for w in os.environ.get('HORIZON_LOOK_FOR', '').split(',') if w]


def main():
    base, username = sys.argv[1].rstrip('/'), sys.argv[2]
    password = os.environ['HORIZON_PASSWORD']
    session = requests.Session()
    landing = login(session, base, username, password)
    report = {'login': {'status': landing.status_code, 'url': landing.url[len(base):]}, 'pages': []}
    if landing.url.rstrip('/').endswith('/auth/login'):
        report['login']['errors'] = [text_of(e) for e in re.findall(r'<div class="alert[^"]*">(.*?)</div>', landing.text, re.S)]
        print(json.dumps(report))
        return
    # The navigation lists every panel this user may see for the services in the catalog (Horizon hides the rest).
    links = sorted(set(NAV_LINK.findall(landing.text)))
    for path in links:
        report['pages'].append(visit(session, base, path))
    print(json.dumps(report))


if __name__ == '__main__':
    main()
