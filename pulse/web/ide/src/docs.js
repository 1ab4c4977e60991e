// Swagger UI at /api/docs, from the swagger-ui-dist package, bundled so the page needs nothing from
// another origin. The page's boot data (the OpenAPI document's URL) is JSON in
// <script type="application/json" id="pulse-boot">, since the Content-Security-Policy allows no inline script.
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-bundle.js';

const boot = JSON.parse(document.getElementById('pulse-boot').textContent);

SwaggerUIBundle({
  url: boot.openapi,
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  deepLinking: true,
  showExtensions: true,
  // The online validator's badge would be a request to another origin.
  validatorUrl: null,
});
