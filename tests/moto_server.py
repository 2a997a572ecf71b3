"""moto's server, with DynamoDB's isolation.

moto runs each request on its own thread and its TransactWriteItems takes no lock: two
concurrent transactions can both pass their conditions, and a failed one restores a copy of
the table taken before another committed. Real DynamoDB transactions are serializable. So
this wrapper serialises the DynamoDB API (one request at a time, as a single partition
would); SQS and the rest stay concurrent, so long polls do not block. The tests then measure
our conditions, not moto's races.

usage: python tests/moto_server.py PORT
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

DYNAMODB = threading.Lock()


def serialising(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            with DYNAMODB:
                # The body is produced inside the lock: moto does the work while iterating.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


if __name__ == "__main__":
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, serialising(app), threaded=True, request_handler=MotoRequestHandler)
