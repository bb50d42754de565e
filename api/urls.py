from ninja import NinjaAPI

api = NinjaAPI(title="Postino API", version="1", urls_namespace="api")
