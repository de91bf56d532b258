//! Services for sites and their forms, fields and mappings: validate the input (domain),
//! write through the writer (store), then refresh the site in the directory.

use uuid::Uuid;

use super::{App, AppError, AppResult, secrets};
use crate::domain::model::{Client, Field, FieldMapping, Form, Id};
use crate::domain::site::{self, ClientInput, FieldInput, FormInput, MappingInput, ValidationError};
use crate::domain::time::Timestamp;
use crate::store::{StoreError, admin, queries};

impl App {
    /// Creates a site; returns it with its secret key (shown once, stored hashed).
    pub async fn create_client(&self, input: ClientInput) -> AppResult<(Client, String)> {
        let now = Timestamp::now();
        let mut client = Client {
            client_id: Uuid::now_v7(),
            is_active: true,
            created_at: now,
            updated_at: now,
            revision: 1,
            ..Default::default()
        };
        site::apply_client(&mut client, input)?;
        let secret = secrets::generate("sk_");
        client.secret_key_hash = secrets::hash_hex(&secret);
        let hash = secrets::hash(&secret);
        let record = client.clone();
        self.write(move |txn| admin::create_client(txn, &record, hash)).await?;
        self.refresh_site(client.client_id).await?;
        Ok((client, secret))
    }

    pub async fn update_client(&self, id: Id, input: ClientInput) -> AppResult<Client> {
        // Validate against the stored record first, so the writer job cannot fail halfway.
        let mut draft =
            self.read(move |txn| queries::get_client(txn, &id)).await?.ok_or(StoreError::NotFound("client"))?;
        site::apply_client(&mut draft, input)?;
        let now = Timestamp::now();
        let client = self
            .write(move |txn| {
                admin::update_client(txn, &id, now, |c| {
                    c.name = draft.name;
                    c.domain = draft.domain;
                    c.is_active = draft.is_active;
                    c.config = draft.config;
                })
            })
            .await?;
        self.refresh_site(id).await?;
        Ok(client)
    }

    /// Issues a new secret key; the old one stops working.
    pub async fn rotate_client_key(&self, id: Id) -> AppResult<(Client, String)> {
        let current =
            self.read(move |txn| queries::get_client(txn, &id)).await?.ok_or(StoreError::NotFound("client"))?;
        let mut old = [0u8; 32];
        let _ = hex::decode_to_slice(&current.secret_key_hash, &mut old);
        let secret = secrets::generate("sk_");
        let new_hash = secrets::hash(&secret);
        let new_hex = secrets::hash_hex(&secret);
        let now = Timestamp::now();
        let client = self
            .write(move |txn| {
                let c = admin::update_client(txn, &id, now, |c| c.secret_key_hash = new_hex)?;
                admin::rotate_client_key(txn, &id, old, new_hash)?;
                Ok(c)
            })
            .await?;
        self.refresh_site(id).await?;
        Ok((client, secret))
    }

    pub async fn delete_client(&self, id: Id) -> AppResult<Client> {
        let now = Timestamp::now();
        let client = self.write(move |txn| admin::delete_client(txn, &id, now)).await?;
        self.sites.remove(&id);
        Ok(client)
    }

    pub async fn create_form(&self, client_id: Id, input: FormInput) -> AppResult<Form> {
        let now = Timestamp::now();
        let mut form = Form {
            form_id: Uuid::now_v7(),
            client_id,
            is_active: true,
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        site::apply_form(&mut form, input)?;
        let record = form.clone();
        self.write(move |txn| admin::create_form(txn, &record, now)).await?;
        self.refresh_site(client_id).await?;
        Ok(form)
    }

    pub async fn update_form(&self, id: Id, input: FormInput) -> AppResult<Form> {
        let mut draft = self.read(move |txn| queries::get_form(txn, &id)).await?.ok_or(StoreError::NotFound("form"))?;
        site::apply_form(&mut draft, input)?;
        let now = Timestamp::now();
        let form = self
            .write(move |txn| admin::update_form(txn, &id, now, |f| *f = Form { updated_at: f.updated_at, ..draft }))
            .await?;
        self.refresh_site(form.client_id).await?;
        Ok(form)
    }

    pub async fn delete_form(&self, id: Id) -> AppResult<Form> {
        let now = Timestamp::now();
        let form = self.write(move |txn| admin::delete_form(txn, &id, now)).await?;
        self.refresh_site(form.client_id).await?;
        Ok(form)
    }

    async fn client_of_form(&self, form_id: Id) -> AppResult<Id> {
        let form = self.read(move |txn| queries::get_form(txn, &form_id)).await?.ok_or(StoreError::NotFound("form"))?;
        Ok(form.client_id)
    }

    async fn client_of_field(&self, field_id: Id) -> AppResult<Id> {
        let field =
            self.read(move |txn| queries::get_field(txn, &field_id)).await?.ok_or(StoreError::NotFound("field"))?;
        self.client_of_form(field.form_id).await
    }

    pub async fn create_field(&self, form_id: Id, input: FieldInput) -> AppResult<Field> {
        let now = Timestamp::now();
        let mut field =
            Field { field_id: Uuid::now_v7(), form_id, created_at: now, updated_at: now, ..Default::default() };
        site::apply_field(&mut field, input)?;
        let record = field.clone();
        self.write(move |txn| admin::create_field(txn, &record, now)).await?;
        let client = self.client_of_form(form_id).await?;
        self.refresh_site(client).await?;
        Ok(field)
    }

    pub async fn update_field(&self, id: Id, input: FieldInput) -> AppResult<Field> {
        let mut draft =
            self.read(move |txn| queries::get_field(txn, &id)).await?.ok_or(StoreError::NotFound("field"))?;
        site::apply_field(&mut draft, input)?;
        let now = Timestamp::now();
        let field = self
            .write(move |txn| admin::update_field(txn, &id, now, |f| *f = Field { updated_at: f.updated_at, ..draft }))
            .await?;
        let client = self.client_of_form(field.form_id).await?;
        self.refresh_site(client).await?;
        Ok(field)
    }

    pub async fn delete_field(&self, id: Id) -> AppResult<Field> {
        let client = self.client_of_field(id).await?;
        let now = Timestamp::now();
        let field = self.write(move |txn| admin::delete_field(txn, &id, now)).await?;
        self.refresh_site(client).await?;
        Ok(field)
    }

    pub async fn create_mapping(&self, field_id: Id, input: MappingInput) -> AppResult<FieldMapping> {
        let now = Timestamp::now();
        let mut mapping = FieldMapping {
            mapping_id: Uuid::now_v7(),
            field_id,
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        site::apply_mapping(&mut mapping, input)?;
        let record = mapping.clone();
        self.write(move |txn| admin::create_mapping(txn, &record, now)).await?;
        let client = self.client_of_field(field_id).await?;
        self.refresh_site(client).await?;
        Ok(mapping)
    }

    pub async fn update_mapping(&self, id: Id, input: MappingInput) -> AppResult<FieldMapping> {
        let mut draft =
            self.read(move |txn| queries::get_mapping(txn, &id)).await?.ok_or(StoreError::NotFound("mapping"))?;
        site::apply_mapping(&mut draft, input)?;
        let now = Timestamp::now();
        let mapping = self
            .write(move |txn| {
                admin::update_mapping(txn, &id, now, |m| *m = FieldMapping { updated_at: m.updated_at, ..draft })
            })
            .await?;
        let client = self.client_of_field(mapping.field_id).await?;
        self.refresh_site(client).await?;
        Ok(mapping)
    }

    pub async fn delete_mapping(&self, id: Id) -> AppResult<FieldMapping> {
        let mapping =
            self.read(move |txn| queries::get_mapping(txn, &id)).await?.ok_or(StoreError::NotFound("mapping"))?;
        let client = self.client_of_field(mapping.field_id).await?;
        let now = Timestamp::now();
        let mapping = self.write(move |txn| admin::delete_mapping(txn, &id, now)).await?;
        self.refresh_site(client).await?;
        Ok(mapping)
    }
}

/// A field type guessed from a discovered field's name.
fn guess_field_type(name: &str) -> &'static str {
    use crate::domain::mapping::LeadAttr;
    match LeadAttr::from_field_name(name) {
        Some(LeadAttr::Email) => "email",
        Some(LeadAttr::Phone) => "tel",
        Some(LeadAttr::Message) => "textarea",
        _ => "text",
    }
}

impl App {
    /// Turns a discovered form into a configured one, with a field per name it was seen
    /// with and, where the name says what it is, a mapping to the matching lead attribute.
    pub async fn promote_discovered(
        &self,
        client_id: Id,
        selector: String,
        name: Option<String>,
    ) -> AppResult<(Form, Vec<Field>)> {
        let lookup = selector.clone();
        let found = self
            .read(move |txn| queries::discovered_form(txn, &client_id, &lookup))
            .await?
            .ok_or(StoreError::NotFound("discovered form"))?;
        let (input, field_names) = site::promotion(&found, name);
        let form = self.create_form(client_id, input).await.map_err(|e| match e {
            // The request named the form by `selector`: a selector a browser sent that
            // a configured form may not have is that field's problem, said as such.
            AppError::Validation(v) if v.field == "formSelector" => AppError::Validation(ValidationError {
                field: "selector".into(),
                message: format!("cannot be promoted as a configured form's selector: it {}", v.message),
            }),
            other => other,
        })?;
        let mut fields = Vec::new();
        for (order, field_name) in field_names.iter().enumerate() {
            let field = self
                .create_field(
                    form.form_id,
                    FieldInput {
                        field_name: Some(field_name.clone()),
                        field_type: Some(guess_field_type(field_name).to_string()),
                        order: Some(order as i32),
                        ..Default::default()
                    },
                )
                .await?;
            fields.push(field);
        }
        Ok((form, fields))
    }
}
