"""The REST interface: serializers, views, request options and error handling."""
