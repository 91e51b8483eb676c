//! One definition of the single-exchange methods every client offers, so the blocking and the
//! async client cannot drift apart.

/// Defines the single-exchange methods of a client (every operation that is one request and
/// one response), with the Python SDK's names and the same signatures in every transport.
///
/// The client type must have `fn vault(&self) -> &kvcerts_core::Vault` and a method
/// `call<T>(&self, call: kvcerts_core::Call<T>)` returning `Result<T, kvcerts_core::Error>`
/// (blocking) or a future of it (async). Invoke inside an `impl` block:
/// `kvcerts_core::client_methods!(blocking);` or `kvcerts_core::client_methods!(async);`.
#[macro_export]
macro_rules! client_methods {
    (blocking) => {
        $crate::client_methods!(@emit [] []);
    };
    (async) => {
        $crate::client_methods!(@emit [async] [.await]);
    };
    (@emit [$($kw:tt)*] [$($aw:tt)*]) => {
        /// The latest version of a certificate, with its policy (`GET /certificates/{name}/`).
        pub $($kw)* fn get_certificate(&self, name: &str) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().get_certificate(name)?)$($aw)*
        }

        /// One version of a certificate.
        pub $($kw)* fn get_certificate_version(
            &self,
            name: &str,
            version: &str,
        ) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().get_certificate_version(name, version)?)$($aw)*
        }

        /// Changes enabled, validity dates or tags of a version (`None`: the latest).
        pub $($kw)* fn update_certificate_properties(
            &self,
            name: &str,
            version: Option<&str>,
            update: &$crate::UpdateCertificatePropertiesOptions,
        ) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().update_certificate_properties(name, version, update)?)$($aw)*
        }

        /// A deleted certificate.
        pub $($kw)* fn get_deleted_certificate(&self, name: &str) -> Result<$crate::models::DeletedCertificate, $crate::Error> {
            self.call(self.vault().get_deleted_certificate(name)?)$($aw)*
        }

        /// Deletes a deleted certificate for good.
        pub $($kw)* fn purge_deleted_certificate(&self, name: &str) -> Result<(), $crate::Error> {
            self.call(self.vault().purge_deleted_certificate(name)?)$($aw)*
        }

        /// Imports a certificate with its private key (PEM or PKCS#12 bytes), checked locally first.
        pub $($kw)* fn import_certificate(
            &self,
            name: &str,
            certificate: &[u8],
            options: &$crate::ImportCertificateOptions,
        ) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().import_certificate(name, certificate, options)?)$($aw)*
        }

        /// A certificate's policy.
        pub $($kw)* fn get_certificate_policy(&self, name: &str) -> Result<$crate::models::CertificatePolicy, $crate::Error> {
            self.call(self.vault().get_certificate_policy(name)?)$($aw)*
        }

        /// Updates the members of a certificate's policy that are set.
        pub $($kw)* fn update_certificate_policy(
            &self,
            name: &str,
            policy: &$crate::models::CertificatePolicy,
        ) -> Result<$crate::models::CertificatePolicy, $crate::Error> {
            self.call(self.vault().update_certificate_policy(name, policy)?)$($aw)*
        }

        /// A backup of every version of a certificate (an opaque blob).
        pub $($kw)* fn backup_certificate(&self, name: &str) -> Result<Vec<u8>, $crate::Error> {
            self.call(self.vault().backup_certificate(name)?)$($aw)*
        }

        /// Restores a backup.
        pub $($kw)* fn restore_certificate_backup(&self, backup: &[u8]) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().restore_certificate_backup(backup)?)$($aw)*
        }

        /// The state of a certificate's creation.
        pub $($kw)* fn get_certificate_operation(&self, name: &str) -> Result<$crate::models::CertificateOperation, $crate::Error> {
            self.call(self.vault().get_certificate_operation(name)?)$($aw)*
        }

        /// Requests cancellation of a certificate's creation.
        pub $($kw)* fn cancel_certificate_operation(&self, name: &str) -> Result<$crate::models::CertificateOperation, $crate::Error> {
            self.call(self.vault().cancel_certificate_operation(name)?)$($aw)*
        }

        /// Deletes a certificate's creation operation.
        pub $($kw)* fn delete_certificate_operation(&self, name: &str) -> Result<$crate::models::CertificateOperation, $crate::Error> {
            self.call(self.vault().delete_certificate_operation(name)?)$($aw)*
        }

        /// Completes a certificate whose issuer is `Unknown` with the signed certificate and
        /// chain (DER).
        pub $($kw)* fn merge_certificate(
            &self,
            name: &str,
            x509_certificates: &[Vec<u8>],
            options: &$crate::MergeCertificateOptions,
        ) -> Result<$crate::models::KeyVaultCertificate, $crate::Error> {
            self.call(self.vault().merge_certificate(name, x509_certificates, options)?)$($aw)*
        }

        /// Replaces the certificate contacts.
        pub $($kw)* fn set_contacts(
            &self,
            contacts: &[$crate::models::CertificateContact],
        ) -> Result<$crate::models::CertificateContacts, $crate::Error> {
            self.call(self.vault().set_contacts(contacts)?)$($aw)*
        }

        /// The certificate contacts.
        pub $($kw)* fn get_contacts(&self) -> Result<$crate::models::CertificateContacts, $crate::Error> {
            self.call(self.vault().get_contacts()?)$($aw)*
        }

        /// Removes every certificate contact.
        pub $($kw)* fn delete_contacts(&self) -> Result<$crate::models::CertificateContacts, $crate::Error> {
            self.call(self.vault().delete_contacts()?)$($aw)*
        }

        /// An issuer.
        pub $($kw)* fn get_issuer(&self, name: &str) -> Result<$crate::models::CertificateIssuer, $crate::Error> {
            self.call(self.vault().get_issuer(name)?)$($aw)*
        }

        /// Creates or replaces an issuer.
        pub $($kw)* fn create_issuer(
            &self,
            name: &str,
            provider: &str,
            options: &$crate::IssuerOptions,
        ) -> Result<$crate::models::CertificateIssuer, $crate::Error> {
            self.call(self.vault().create_issuer(name, provider, options)?)$($aw)*
        }

        /// Updates an issuer.
        pub $($kw)* fn update_issuer(
            &self,
            name: &str,
            provider: Option<&str>,
            options: &$crate::IssuerOptions,
        ) -> Result<$crate::models::CertificateIssuer, $crate::Error> {
            self.call(self.vault().update_issuer(name, provider, options)?)$($aw)*
        }

        /// Deletes an issuer.
        pub $($kw)* fn delete_issuer(&self, name: &str) -> Result<$crate::models::CertificateIssuer, $crate::Error> {
            self.call(self.vault().delete_issuer(name)?)$($aw)*
        }

        /// A certificate with its private key (needs `secrets/get`); `out_content_type` asks
        /// the service to convert the format (e.g. PKCS#12 to PEM). A certificate whose key is
        /// not exportable is a clear error.
        pub $($kw)* fn download_certificate(
            &self,
            name: &str,
            version: Option<&str>,
            out_content_type: Option<&$crate::models::CertificateContentType>,
        ) -> Result<$crate::models::DownloadedCertificate, $crate::Error> {
            self.call(self.vault().download_certificate(name, version, out_content_type)?)$($aw)*
        }
    };
}

/// Defines the methods that start a long-running operation or a list (they return the
/// transport's poller and pager types), with the same names and signatures in every transport.
///
/// The client type must be `Clone`, have a field path `self.inner.flows` to its
/// [`VaultFlows`](crate::flows::VaultFlows), and have in scope `CreateCertificatePoller`,
/// `DeleteCertificatePoller`, `RecoverDeletedCertificatePoller` and `ItemPager`, each with a
/// `new(client, flow)` constructor. Invoke inside the client's `impl` block:
/// `kvcerts_core::client_flow_methods!();`.
#[macro_export]
macro_rules! client_flow_methods {
    () => {
        /// Starts creating a certificate; the poller follows it to the end.
        pub fn begin_create_certificate(
            &self,
            name: &str,
            policy: &$crate::models::CertificatePolicy,
            options: &$crate::CreateCertificateOptions,
        ) -> Result<CreateCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.begin_create_certificate(name, policy, options)?;
            Ok(CreateCertificatePoller::new(self.clone(), flow))
        }

        /// Resumes a creation poller from its continuation token.
        pub fn resume_create_certificate(
            &self,
            continuation_token: &str,
        ) -> Result<CreateCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.resume_create_certificate(continuation_token)?;
            Ok(CreateCertificatePoller::new(self.clone(), flow))
        }

        /// A poller for the creation of `name` started elsewhere (by another process, the
        /// portal or the Azure CLI), when no continuation token was kept: it polls at once. A name
        /// with no creation on record ends in `CreateOutcome::Deleted` (the service answers 404).
        pub fn create_certificate_poller(&self, name: &str) -> Result<CreateCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.create_certificate_poller(name)?;
            Ok(CreateCertificatePoller::new(self.clone(), flow))
        }

        /// Deletes a certificate; the poller waits until the deletion is complete.
        pub fn begin_delete_certificate(&self, name: &str) -> Result<DeleteCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.begin_delete_certificate(name)?;
            Ok(DeleteCertificatePoller::new(self.clone(), flow))
        }

        /// Resumes a deletion poller from its continuation token.
        pub fn resume_delete_certificate(
            &self,
            continuation_token: &str,
        ) -> Result<DeleteCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.resume_delete_certificate(continuation_token)?;
            Ok(DeleteCertificatePoller::new(self.clone(), flow))
        }

        /// Recovers a deleted certificate; the poller waits until it is readable again.
        pub fn begin_recover_deleted_certificate(
            &self,
            name: &str,
        ) -> Result<RecoverDeletedCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.begin_recover_deleted_certificate(name)?;
            Ok(RecoverDeletedCertificatePoller::new(self.clone(), flow))
        }

        /// Resumes a recovery poller from its continuation token.
        pub fn resume_recover_deleted_certificate(
            &self,
            continuation_token: &str,
        ) -> Result<RecoverDeletedCertificatePoller, $crate::Error> {
            let flow = self.inner.flows.resume_recover_deleted_certificate(continuation_token)?;
            Ok(RecoverDeletedCertificatePoller::new(self.clone(), flow))
        }

        /// The vault's certificates (latest versions), fetched page by page as they are consumed.
        pub fn list_properties_of_certificates(
            &self,
            options: &$crate::ListOptions,
        ) -> Result<ItemPager<$crate::models::CertificateProperties>, $crate::Error> {
            Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_certificates(options)?))
        }

        /// A certificate's versions.
        pub fn list_properties_of_certificate_versions(
            &self,
            name: &str,
            options: &$crate::ListOptions,
        ) -> Result<ItemPager<$crate::models::CertificateProperties>, $crate::Error> {
            Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_certificate_versions(name, options)?))
        }

        /// The deleted certificates.
        pub fn list_deleted_certificates(
            &self,
            options: &$crate::ListOptions,
        ) -> Result<ItemPager<$crate::models::DeletedCertificateProperties>, $crate::Error> {
            Ok(ItemPager::new(self.clone(), self.inner.flows.list_deleted_certificates(options)?))
        }

        /// The issuers.
        pub fn list_properties_of_issuers(
            &self,
            options: &$crate::ListOptions,
        ) -> Result<ItemPager<$crate::models::IssuerProperties>, $crate::Error> {
            Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_issuers(options)?))
        }

        fn resume_list<T: $crate::__private::DeserializeOwned + Send + 'static>(
            &self,
            operation: $crate::Operation,
            continuation: &str,
        ) -> Result<ItemPager<T>, $crate::Error> {
            Ok(ItemPager::new(self.clone(), self.inner.flows.resume_list(operation, continuation)?))
        }

        /// Resumes [`list_properties_of_certificates`](Self::list_properties_of_certificates)
        /// from a pager's saved `continuation()`. A link of another list is refused.
        pub fn resume_list_properties_of_certificates(
            &self,
            continuation: &str,
        ) -> Result<ItemPager<$crate::models::CertificateProperties>, $crate::Error> {
            self.resume_list($crate::Operation::ListPropertiesOfCertificates, continuation)
        }

        /// Resumes
        /// [`list_properties_of_certificate_versions`](Self::list_properties_of_certificate_versions)
        /// from a pager's saved `continuation()`. A link of another list is refused.
        pub fn resume_list_properties_of_certificate_versions(
            &self,
            continuation: &str,
        ) -> Result<ItemPager<$crate::models::CertificateProperties>, $crate::Error> {
            self.resume_list($crate::Operation::ListPropertiesOfCertificateVersions, continuation)
        }

        /// Resumes [`list_deleted_certificates`](Self::list_deleted_certificates) from a
        /// pager's saved `continuation()`. A link of another list is refused.
        pub fn resume_list_deleted_certificates(
            &self,
            continuation: &str,
        ) -> Result<ItemPager<$crate::models::DeletedCertificateProperties>, $crate::Error> {
            self.resume_list($crate::Operation::ListDeletedCertificates, continuation)
        }

        /// Resumes [`list_properties_of_issuers`](Self::list_properties_of_issuers) from a
        /// pager's saved `continuation()`. A link of another list is refused.
        pub fn resume_list_properties_of_issuers(
            &self,
            continuation: &str,
        ) -> Result<ItemPager<$crate::models::IssuerProperties>, $crate::Error> {
            self.resume_list($crate::Operation::ListPropertiesOfIssuers, continuation)
        }
    };
}
