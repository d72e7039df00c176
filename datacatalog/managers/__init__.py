"""DataCatalog's request handlers: validate, read and write through the repositories, answer in protobuf."""
