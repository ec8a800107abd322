/* CityOps heat layer: drawn on a canvas by code written here (filled in next). */
