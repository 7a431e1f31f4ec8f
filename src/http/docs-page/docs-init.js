// The try-it page of /docs: Swagger UI on the served revision's OpenAPI document.
// validatorUrl: null stops Swagger UI sending the document to validator.swagger.io (no request leaves the server).
window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
});
