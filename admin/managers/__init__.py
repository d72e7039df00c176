"""Admin's business logic, one manager per aggregate; the gRPC servicers only translate to and from them."""
